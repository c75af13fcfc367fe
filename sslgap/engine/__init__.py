"""Running a sweep: the plan and its vmapped executor, memory, rehearsal, the runner, clean stopping, the cluster launcher."""
