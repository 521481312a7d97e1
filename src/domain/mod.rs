//! Domain adaptation (seed 002; seed 003 19.2.5; SPEC D1-D2): the pieces that compare two
//! domains and that train a feature extractor to blur them: gradient reversal with DANN's
//! schedule for its weight, and the kernel two-sample statistic (MMD) with a permutation test.

mod gradient_reversal;
mod mmd;

pub use gradient_reversal::{dann_lambda, gradient_reversal};
pub use mmd::{MmdTest, mmd_test, mmd2_unbiased, rbf_bandwidth};
