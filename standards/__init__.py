"""National standards the hub's data follows: validators, code tables, normalizers, GX expectations.

See docs/standards.md. Modules: ``result`` (Check), one module per standard
(``gb11643``, ``gb32100``, ``gb11714``, ``gbt2260``, ``streets``, ``grid``,
``gbt4754``, ``phone``, ``postcode``), ``registry`` (by short name), ``tables``
(versioned code tables), ``normalize``, ``agreement``, ``expectations``, ``cli``.
"""
