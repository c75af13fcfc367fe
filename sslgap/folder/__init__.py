"""The sweep-folder protocol: one Folder object (sweep_folder) whose parts are the paths, the plan file,
chunk files and checkpoints, leases, the merge, and how runs are cut into chunks. Outside this wing a
folder is read and written through Folder alone."""

from sslgap.folder.sweep_folder import DamagedChunk, Folder, OtherNumerics, PlanRecord  # noqa: F401
