//! The license server as a library: the `dev-health-license` binary (`main.rs`) runs it, and the
//! fuzz targets (`fuzz/`) call its HTTP application in-process, without a listener.

pub mod serve;
