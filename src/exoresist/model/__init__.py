"""Stage 3: the executable model assembled from the KB (spec, parameters, assembly, SBML export)."""
