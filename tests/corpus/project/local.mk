# Targets a developer keeps for the hosted services the project deploys to.
.PHONY: preview-db-reset edge-drop-sessions edge-status services-clean

preview-db-reset:
	neonctl branches reset preview --parent --project-id $(NEON_PROJECT)

edge-drop-sessions:
	npx wrangler d1 execute app-db --remote --command "DROP TABLE sessions"

edge-status:
	npx wrangler d1 info app-db

services-clean:
	sudo systemctl clean --what=state app.service
