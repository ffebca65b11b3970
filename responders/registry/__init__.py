"""The volunteer, AED and operator registries: domain functions over the database."""
