# mk/emu.mk — (being written)
