"""Evaluation: case sets (seen and blind) through the same paths agents and trainers use; metrics, report, gate."""
