# Documentation targets, included by the Makefile.
DOCS := docs

.PHONY: docs docs-clean
docs:
	$(PYTHON) -m mkdocs build -d $(BUILD_DIR)/site

docs-clean:
	rm -rf $(DOCS)
