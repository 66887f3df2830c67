"""Call-flow scripts for the PBX and the FastAGI server that runs them."""
