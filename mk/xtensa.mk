# mk/xtensa.mk — (being written)
