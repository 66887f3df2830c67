"""The shared vocabulary: records, charter, definitions, directory, settings, metric and event
contracts. Every other package (the AGI scripts too) may import it; it imports none of them."""
