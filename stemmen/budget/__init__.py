"""The pure budget engine: pabulib io, allocation rules and their explanations.

Importing this package loads only the standard library; rules that need numpy or scipy import
them when they run.
"""
