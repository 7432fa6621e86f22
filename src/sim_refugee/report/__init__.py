"""(placeholder: filled in by its part)"""
