"""Where versions run: the embedded local target, and Kubernetes manifests for Argo Rollouts."""
