"""The web dashboard and REST API of `suture serve`."""
