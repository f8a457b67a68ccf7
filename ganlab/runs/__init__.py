"""The Runs page's regions: the runs browser and the sweeps."""
