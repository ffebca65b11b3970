"""The data layer: engine, tables, migrations, geometry conversion, the embedded cluster."""
