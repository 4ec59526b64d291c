"""suture's severity table for checkov checks, which carry no severity when run offline.

Check ids and titles come from checkov's policy index (https://www.checkov.io/5.Policy%20Index/
terraform.html, kubernetes.html, dockerfile.html) and were confirmed with `checkov --list` of
checkov 3.3. How a check is ranked:

- error:   exploitable exposure of data (PHI) or of the platform: public buckets and databases,
           admin ports open to the internet, storage without encryption at rest, hard-coded
           credentials, containers that can take over their node.
- warning: hardening that limits the damage of another failure (KMS keys, logging, root users,
           capabilities); also every check not listed here (`DEFAULT_LEVEL`).
- note:    hygiene that keeps builds reproducible and operable (probes, pinned images, limits).

A project overrides any entry with `severity: {CKV_AWS_20: error}` in the gate's config.
"""

from __future__ import annotations

from collections.abc import Mapping

from suture.model import Level

E, W, N = Level.ERROR, Level.WARNING, Level.NOTE

# Checks not in the table: worth fixing, but not proven to expose data.
DEFAULT_LEVEL = Level.WARNING

# Rule id used when checkov could not parse a file, so none of its resources were checked.
PARSE_ERROR_RULE = "iac/parse-error"

SEVERITY: Mapping[str, Level] = {
    # --- AWS: public data ---
    "CKV_AWS_20": E,  # S3 bucket ACL allows public READ
    "CKV_AWS_57": E,  # S3 bucket ACL allows public WRITE
    "CKV_AWS_53": E,  # S3 public access block: block public ACLs off
    "CKV_AWS_54": E,  # S3 public access block: block public policy off
    "CKV_AWS_55": W,  # S3 public access block: ignore public ACLs off
    "CKV_AWS_56": W,  # S3 public access block: restrict_public_buckets off
    "CKV2_AWS_6": W,  # S3 bucket has no public access block at all
    "CKV_AWS_17": E,  # RDS instance publicly accessible
    "CKV_AWS_89": E,  # DMS replication instance publicly accessible
    "CKV_AWS_88": W,  # EC2 instance has a public IP
    # --- AWS: network open to the world ---
    "CKV_AWS_24": E,  # security group: 0.0.0.0/0 to SSH (22)
    "CKV_AWS_25": E,  # security group: 0.0.0.0/0 to RDP (3389)
    "CKV_AWS_277": E,  # security group: 0.0.0.0/0 to all ports
    "CKV_AWS_260": W,  # security group: 0.0.0.0/0 to HTTP (80)
    "CKV_AWS_2": E,  # load balancer listener is plain HTTP (PHI in transit)
    "CKV_AWS_103": W,  # load balancer allows TLS below 1.2
    # --- AWS: encryption at rest ---
    "CKV_AWS_19": E,  # S3 bucket not encrypted at rest
    "CKV_AWS_3": E,  # EBS volume not encrypted
    "CKV_AWS_8": E,  # launch configuration / instance EBS not encrypted
    "CKV_AWS_16": E,  # RDS not encrypted at rest
    "CKV_AWS_5": E,  # Elasticsearch not encrypted at rest
    "CKV_AWS_64": E,  # Redshift not encrypted at rest
    "CKV_AWS_26": W,  # SNS topic not encrypted
    "CKV_AWS_27": W,  # SQS queue not encrypted
    "CKV_AWS_145": W,  # S3 bucket not encrypted with KMS
    "CKV_AWS_119": W,  # DynamoDB table not encrypted with a customer-managed KMS key
    "CKV_AWS_149": W,  # Secrets Manager secret not encrypted with a KMS CMK
    "CKV_AWS_158": W,  # CloudWatch log group not encrypted with KMS
    "CKV_AWS_7": W,  # KMS key rotation disabled
    # --- AWS: credentials and IAM ---
    "CKV_AWS_41": E,  # hard-coded access key in the provider block
    "CKV_AWS_45": E,  # hard-coded secret in a Lambda environment
    "CKV_AWS_46": E,  # hard-coded secret in EC2 user data
    "CKV_AWS_1": E,  # IAM policy grants "*:*" administrative privileges
    "CKV_AWS_62": E,  # IAM group policy grants "*:*" administrative privileges
    "CKV_AWS_33": E,  # KMS key policy with a wildcard principal
    "CKV_AWS_107": W,  # IAM policy allows credentials exposure
    "CKV_AWS_108": W,  # IAM policy allows data exfiltration
    # --- AWS: audit trail and recovery (HIPAA audit controls) ---
    "CKV_AWS_67": W,  # CloudTrail not enabled in all regions
    "CKV_AWS_36": W,  # CloudTrail log file validation off
    "CKV_AWS_18": W,  # S3 access logging off
    "CKV_AWS_21": W,  # S3 versioning off
    "CKV_AWS_79": W,  # EC2 instance metadata service v1 enabled
    "CKV_AWS_23": N,  # security group rule without a description
    "CKV2_AWS_5": N,  # security group not attached to anything
    "CKV2_AWS_61": N,  # S3 bucket without lifecycle configuration
    "CKV2_AWS_62": N,  # S3 bucket without event notifications
    "CKV_AWS_144": N,  # S3 bucket without cross-region replication
    # --- Azure / Google Cloud: the same exposures ---
    "CKV_AZURE_9": E,  # NSG: RDP open to the internet
    "CKV_AZURE_10": E,  # NSG: SSH open to the internet
    "CKV_AZURE_59": E,  # storage account allows public access
    "CKV_AZURE_190": E,  # storage blobs allow public access
    "CKV_AZURE_11": E,  # SQL firewall open to 0.0.0.0/0
    "CKV_AZURE_3": E,  # storage account accepts plain HTTP
    "CKV_GCP_2": E,  # firewall: unrestricted SSH
    "CKV_GCP_3": E,  # firewall: unrestricted RDP
    "CKV_GCP_28": E,  # Cloud Storage bucket publicly accessible
    "CKV_GCP_11": E,  # Cloud SQL open to the world
    "CKV_GCP_6": E,  # Cloud SQL accepts connections without SSL
    "CKV_GCP_60": W,  # Cloud SQL has a public IP
    # --- Kubernetes: containers that can take over the node ---
    "CKV_K8S_16": E,  # privileged container
    "CKV_K8S_17": E,  # shares the host PID namespace
    "CKV_K8S_18": E,  # shares the host IPC namespace
    "CKV_K8S_19": E,  # shares the host network (hostNetwork)
    "CKV_K8S_27": E,  # docker socket mounted into the container
    "CKV_K8S_39": E,  # CAP_SYS_ADMIN capability
    "CKV_K8S_20": W,  # allowPrivilegeEscalation not disabled
    "CKV_K8S_23": W,  # root containers admitted
    "CKV_K8S_40": W,  # low UID (host conflict)
    "CKV_K8S_28": W,  # NET_RAW capability not dropped
    "CKV_K8S_37": W,  # capabilities not dropped
    "CKV_K8S_22": W,  # writable root filesystem
    "CKV_K8S_35": W,  # secrets passed as environment variables instead of files
    "CKV_K8S_49": W,  # wildcards in Roles / ClusterRoles
    "CKV2_K8S_5": E,  # a ServiceAccount or Node can read all secrets
    "CKV_K8S_38": N,  # service account token mounted everywhere
    "CKV_K8S_8": N,  # no liveness probe
    "CKV_K8S_9": N,  # no readiness probe
    "CKV_K8S_10": N,  # no CPU request
    "CKV_K8S_11": N,  # no CPU limit
    "CKV_K8S_12": N,  # no memory request
    "CKV_K8S_13": N,  # no memory limit
    "CKV_K8S_14": N,  # image tag not fixed
    "CKV_K8S_15": N,  # image pull policy not Always
    "CKV_K8S_21": N,  # default namespace used
    "CKV_K8S_43": N,  # image not pinned by digest
    # --- Dockerfile ---
    "CKV_DOCKER_1": E,  # port 22 exposed
    "CKV_DOCKER_3": W,  # no user created: the container runs as root
    "CKV_DOCKER_8": W,  # last USER is root
    "CKV2_DOCKER_1": W,  # sudo used
    "CKV_DOCKER_2": N,  # no HEALTHCHECK
    "CKV_DOCKER_4": N,  # ADD instead of COPY
    "CKV_DOCKER_7": N,  # base image tag is latest
}


def level_for(check_id: str, overrides: Mapping[str, Level] | None = None) -> Level:
    """The level of a checkov check: the project's override, then the table, then the default."""
    if overrides and check_id in overrides:
        return overrides[check_id]
    return SEVERITY.get(check_id, DEFAULT_LEVEL)
