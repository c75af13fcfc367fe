"""The paper as experiments: the catalog of config files, the config builders they share, the report and the findings table."""
