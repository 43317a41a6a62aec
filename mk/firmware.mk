# mk/firmware.mk — (being written)
