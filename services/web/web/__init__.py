"""Beat's pages: server-rendered HTML over the four services' public APIs (owns no data)."""
