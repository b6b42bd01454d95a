"""What a dashboard screen does in each mode: live (its own trainer or attached), replay and follow."""
