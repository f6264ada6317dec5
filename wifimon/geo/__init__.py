"""District geometry: the city's boundaries and the area its APs cover.

``districts`` reads and checks a GeoJSON file of district polygons and finds
the district of a point; ``coverage`` measures, every poll, the share of
each district within reach of an AP that is up. Both work in WGS84
longitude/latitude at their edges; areas and radii are computed in metres
in an equal-area projection centred on the city.
"""
