"""Static assets of the local HTML dashboard: the world outline and the page's script and style."""
