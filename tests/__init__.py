"""Test suite for Crossover."""
