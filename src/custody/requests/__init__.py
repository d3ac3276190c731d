"""The federal side's requests: detainers, notification requests and transfer requests."""
