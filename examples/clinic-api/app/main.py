"""The FastAPI application: FHIR R4 create, read and search for Patient and Observation."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from starlette.responses import JSONResponse

from app import __version__, errors
from app.capability import capability_statement
from app.fault import FaultMiddleware, FaultSettings, load_faults
from app.models import PATIENT_REFERENCE, Bundle, BundleEntry, Observation, Patient, Resource
from app.responses import FHIRResponse, fhir_response
from app.store import NotFound, Store

router = APIRouter()


def get_store(request: Request) -> Store:
    """The store of the application serving this request."""
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def created(request: Request, resource: Resource, route: str) -> FHIRResponse:
    """201 with the new resource and its Location."""
    location = str(request.url_for(route, resource_id=resource.id))
    return fhir_response(resource, 201, {"Location": location})


def searchset(
    request: Request, matches: list[Patient] | list[Observation], route: str
) -> FHIRResponse:
    """A searchset Bundle of matches, each with its absolute URL."""
    entries = [
        BundleEntry(fullUrl=str(request.url_for(route, resource_id=r.id)), resource=r)
        for r in matches
    ]
    return fhir_response(Bundle(total=len(entries), entry=entries or None))


@router.get("/healthz", response_class=JSONResponse)
def healthz() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}


@router.get("/metadata")
def metadata() -> FHIRResponse:
    """The server's CapabilityStatement."""
    return FHIRResponse(capability_statement())


@router.post("/Patient", status_code=201)
def create_patient(request: Request, patient: Patient, store: StoreDep) -> FHIRResponse:
    """Create a Patient; the server assigns its id."""
    return created(request, store.create(patient), "read_patient")


@router.get("/Patient/{resource_id}")
def read_patient(resource_id: str, store: StoreDep) -> FHIRResponse:
    """Read one Patient."""
    return fhir_response(store.read(Patient, resource_id))


@router.get("/Patient")
def search_patients(request: Request, store: StoreDep, family: str | None = None) -> FHIRResponse:
    """Patients whose family name starts with `family` (all of them without it)."""
    matches = store.search(Patient, lambda p: family is None or p.matches_family(family))
    return searchset(request, matches, "read_patient")


@router.post("/Observation", status_code=201)
def create_observation(request: Request, observation: Observation, store: StoreDep) -> FHIRResponse:
    """Create an Observation about a Patient that exists."""
    patient_id = observation.subject.reference.removeprefix("Patient/")
    try:
        store.read(Patient, patient_id)
    except NotFound as exc:
        raise HTTPException(422, f"Observation.subject: {exc}") from exc
    return created(request, store.create(observation), "read_observation")


@router.get("/Observation/{resource_id}")
def read_observation(resource_id: str, store: StoreDep) -> FHIRResponse:
    """Read one Observation."""
    return fhir_response(store.read(Observation, resource_id))


@router.get("/Observation")
def search_observations(
    request: Request, store: StoreDep, subject: str | None = None
) -> FHIRResponse:
    """Observations about `subject` (a `Patient/{id}` reference), all of them without it."""
    if subject is not None and not re.fullmatch(PATIENT_REFERENCE, subject):
        raise HTTPException(400, f"subject must look like Patient/{{id}}, got {subject!r}")
    matches = store.search(Observation, lambda o: subject is None or o.subject.reference == subject)
    return searchset(request, matches, "read_observation")


def create_app(store: Store | None = None, faults: FaultSettings | None = None) -> FastAPI:
    """A clinic-api application with its own (by default empty) store, healthy unless `faults`."""
    app = FastAPI(title="clinic-api", version=__version__, default_response_class=FHIRResponse)
    app.state.store = store or Store()
    app.include_router(router)
    errors.install(app)
    if faults is not None and faults.active:
        app.add_middleware(FaultMiddleware, faults=faults)
    return app


# The served application: a process start is a release, so fault.json is read here, once. Apps
# built by create_app() alone (the tests') stay healthy whatever fault.json a release ships.
app = create_app(faults=load_faults())
