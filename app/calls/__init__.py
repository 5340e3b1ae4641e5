"""Calls (contacts): every call is logged, most never become a case."""
