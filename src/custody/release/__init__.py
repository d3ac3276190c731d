"""Release: scheduled releases, holds on detainers with their legal clocks, transfers to federal custody."""
