// DNSMessage module: see README "Design". Filled in by its issue.
