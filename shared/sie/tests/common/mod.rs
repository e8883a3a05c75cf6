//! Realistic postings: the sample orders and payments mapped with the project's rules.

use std::path::{Path, PathBuf};

use ctvisma_core::input::documents_from_str;
use ctvisma_core::mapper::book::{Book, Source};
use ctvisma_core::rates::RateTable;
use ctvisma_core::{Posting, Rules};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// Every posting the book makes of the inputs (in order), and how many documents it refused.
pub fn postings_of(files: &[PathBuf]) -> (Vec<Posting>, usize) {
    let rules = Rules::from_toml(&std::fs::read_to_string(repo().join("config/rules.toml")).unwrap()).unwrap();
    let rates =
        RateTable::from_ecb_csv(&std::fs::read_to_string(repo().join("config/ecb-rates-sample.csv")).unwrap()).unwrap();
    let mut book = Book::default();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for found in documents_from_str(&text) {
            let source = Source {
                file: file.display().to_string(),
                path: found.path,
            };
            book.add(found.document.unwrap(), source).unwrap();
        }
    }
    let mut postings = Vec::new();
    let mut refused = 0;
    for (_, outcome) in book.postings(&rules, Some(&rates)) {
        match outcome {
            Ok(ps) => postings.extend(ps),
            Err(_) => refused += 1,
        }
    }
    (postings, refused)
}

/// The postings of the Swedish entity (base SEK): the sample orders and payments, plus the public
/// fixture's USD order, which the rules route to SE with an exchange rate.
pub fn se_postings() -> Vec<Posting> {
    let mut files = json_files(&repo().join("tests/data/orders"));
    files.extend(json_files(&repo().join("tests/data/payments")));
    files
        .push(repo().join(
            "../shared/fixtures/commercetools/resources/order-tax-disabled-usd-three-line-items-discounted.json",
        ));
    let (postings, _) = postings_of(&files);
    postings.into_iter().filter(|p| p.entity == "SE").collect()
}
