//! The moto harness lives in the library (`ctvisma_aws::testing`) so the workspace's
//! integration tests share it.

#![allow(unused_imports)]

pub use ctvisma_aws::testing::*;
