"""The demo projects service (port 7010): microDAOs' projects and tasks over Postgres, a real HTTP target
for Toolcore's HTTP tools."""
