"""One training run in JAX, a pure function of its hyper-parameters: the step, where its examples come from, schedules, evaluation, optimisers, data and losses. It never imports the engine."""
