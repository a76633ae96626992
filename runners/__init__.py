"""Running the grid of jobs: leaderboard, noise robustness; caching and parallel backends."""
