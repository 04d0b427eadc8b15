"""Reading IIS configuration: applicationHost.config, web.config, IIS 6 metabase.xml."""
