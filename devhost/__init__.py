"""Local runtime for Python v2 Function Apps: runs function_app.py on one machine."""
