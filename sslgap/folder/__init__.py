"""The sweep-folder protocol: paths, the plan file, chunk files and checkpoints, leases, the merge, how runs are cut into chunks."""
