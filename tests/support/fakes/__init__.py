"""In-repo fakes of the third-party services WebHost calls, served over real HTTP."""
