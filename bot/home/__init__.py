"""The App Home: my accounts by risk, my open steps, my digest."""
