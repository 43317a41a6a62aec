# mk/layout.mk — (being written)
