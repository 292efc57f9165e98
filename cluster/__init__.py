"""Cluster mode: several server processes as one game world, coordinated through Redis (docs/cluster.md)."""
