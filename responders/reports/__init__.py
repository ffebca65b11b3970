"""A citizen's report after it is sent: its status link, what the reporter is told, and the
nearest usable AED with its walking route."""
