# mk/oldmodule.mk — (being written)
