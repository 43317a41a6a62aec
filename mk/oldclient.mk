# mk/oldclient.mk — (being written)
