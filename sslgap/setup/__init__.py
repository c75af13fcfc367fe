"""A config before anything compiles: its schema and checks, the option sections, the run spec of each static point, plug-in loading."""
