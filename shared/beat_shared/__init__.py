"""Beat's platform library. It holds no business rules of any one service."""
