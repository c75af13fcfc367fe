"""Reading result grids: the .npz Results, statistics, series, the claims and their verdicts, notes and figures. Numpy and matplotlib only; it never imports the setup or the engine."""
