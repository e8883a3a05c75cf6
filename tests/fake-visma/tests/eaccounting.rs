//! eAccounting side: schema validation, business rules, lists and `$filter`.

mod common;

use chrono::NaiveDate;
use common::*;
use ctvisma_fake_visma::{validate, Api, DocKind, FakeConfig, FakeVisma};
use serde_json::{json, Value};

#[tokio::test]
async fn valid_voucher_is_stored_with_id_and_number() {
    let fake = FakeVisma::start().await;
    let token = ea_token(&fake).await;
    let (status, body) = ea_post(&fake, &token, "/v2/vouchers", &voucher("2024-03-15", "Order 1001")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["Id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(body["NumberAndNumberSeries"], "A1");
    assert_eq!(body["VoucherDate"], "2024-03-15T00:00:00");
    assert_eq!(
        body["Rows"][1]["AccountDescription"],
        "Försäljning inom Sverige, 25 % moms"
    );
    assert!(validate(Api::EAccounting, "VoucherApi", &body).unwrap().is_empty());
    let stored = fake.documents(DocKind::Voucher);
    assert_eq!(stored, vec![body.clone()]);

    let (status, second) = ea_post(&fake, &token, "/v2/vouchers", &voucher("2024-03-16", "Order 1002")).await;
    assert_eq!(status, 201);
    assert_eq!(second["NumberAndNumberSeries"], "A2");

    // by fiscal year and id
    let (_, years) = get(&fake, &token, "/v2/fiscalyears?$filter=StartDate eq '2024-01-01'").await;
    let fy = years["Data"][0]["Id"].as_str().unwrap().to_string();
    let (status, one) = get(&fake, &token, &format!("/v2/vouchers/{fy}/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(one["Id"], id);
    let (_, list) = get(&fake, &token, "/v2/vouchers?$filter=VoucherText eq 'Order 1002'").await;
    assert_eq!(list["Meta"]["TotalNumberOfResults"], 1);
    assert_eq!(list["Data"][0]["NumberAndNumberSeries"], "A2");
}

#[tokio::test]
async fn unknown_field_is_rejected_naming_it() {
    let fake = FakeVisma::start().await;
    let token = ea_token(&fake).await;
    let mut body = voucher("2024-03-15", "x");
    body["Rows"][0]["Foo"] = json!(1);
    body["ExternalId"] = json!("abc");
    let (status, err) = ea_post(&fake, &token, "/v2/vouchers", &body).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["ErrorCode"], 2000);
    assert!(err["ErrorId"].as_str().unwrap().len() == 36);
    let fields: Vec<&str> = err["Errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"Rows[0].Foo"), "{fields:?}");
    assert!(fields.contains(&"ExternalId"), "{fields:?}");
    assert_eq!(err["Errors"][0]["ErrorCode"], "2000");
    assert!(validate(Api::EAccounting, "CommonExtendedBadRequest", &err)
        .unwrap()
        .is_empty());
    let last = fake.last_validation_errors();
    assert!(last
        .iter()
        .any(|e| e.field == "ExternalId" && e.keyword == "additionalProperties"));
    assert!(fake.documents(DocKind::Voucher).is_empty());

    // required field and wrong type
    let (status, err) = ea_post(
        &fake,
        &token,
        "/v2/vouchers",
        &json!({"Rows": [{"AccountNumber": "1930"}]}),
    )
    .await;
    assert_eq!(status, 400);
    let errs = fake.last_validation_errors();
    assert!(
        errs.iter().any(|e| e.field == "VoucherText" && e.keyword == "required"),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.field == "Rows[0].AccountNumber" && e.keyword == "type"),
        "{errs:?}"
    );
    assert_eq!(err["Errors"].as_array().unwrap().len(), errs.len());
}

#[tokio::test]
async fn unbalanced_voucher_is_4032_unknown_account_is_3002() {
    let fake = FakeVisma::start().await;
    let token = ea_token(&fake).await;
    let mut body = voucher("2024-03-15", "x");
    body["Rows"][0]["DebitAmount"] = json!(125.01);
    let (status, err) = ea_post(&fake, &token, "/v2/vouchers", &body).await;
    assert_eq!((status, err["ErrorCode"].as_i64()), (400, Some(4032)), "{err}");

    let mut body = voucher("2024-03-15", "x");
    body["Rows"][2]["AccountNumber"] = json!(2612);
    let (status, err) = ea_post(&fake, &token, "/v2/vouchers", &body).await;
    assert_eq!((status, err["ErrorCode"].as_i64()), (400, Some(3002)), "{err}");
    assert_eq!(err["Errors"][0]["Field"], "Rows[2].AccountNumber");
    assert!(err["DeveloperErrorMessage"].as_str().unwrap().contains("2612"));

    let (status, err) = ea_post(&fake, &token, "/v2/vouchers", &voucher("2040-01-01", "x")).await;
    assert_eq!((status, err["ErrorCode"].as_i64()), (400, Some(3001)), "{err}");
    assert!(fake.documents(DocKind::Voucher).is_empty());
}

#[tokio::test]
async fn voucher_on_or_before_lock_date_is_4026() {
    let fake = FakeVisma::with_config(FakeConfig {
        lock_date: NaiveDate::from_ymd_opt(2024, 3, 31),
        ..FakeConfig::default()
    })
    .await;
    let token = ea_token(&fake).await;
    let (status, err) = ea_post(&fake, &token, "/v2/vouchers", &voucher("2024-03-31", "x")).await;
    assert_eq!((status, err["ErrorCode"].as_i64()), (400, Some(4026)), "{err}");
    let (status, _) = ea_post(&fake, &token, "/v2/vouchers", &voucher("2024-04-01", "x")).await;
    assert_eq!(status, 201);
    let (_, settings) = get(&fake, &token, "/v2/companysettings").await;
    assert_eq!(settings["AccountingLockedTo"], "2024-03-31T00:00:00");
    assert!(validate(Api::EAccounting, "CompanySettingsApi", &settings)
        .unwrap()
        .is_empty());
    let (_, years) = get(&fake, &token, "/v2/fiscalyears?$filter=IsLockedForAccounting eq true").await;
    assert_eq!(years["Meta"]["TotalNumberOfResults"], 4, "2020..=2023");
    assert_eq!(years["Data"][3]["EndDate"], "2023-12-31T00:00:00");
}

async fn customer_and_article(fake: &FakeVisma, token: &str) -> (String, String) {
    let (_, terms) = get(fake, token, "/v2/termsofpayments").await;
    let (_, units) = get(fake, token, "/v2/units").await;
    let (_, codings) = get(
        fake,
        token,
        "/v2/articleaccountcodings?$filter=VatRate eq 'MP1' and Type eq 'Goods'",
    )
    .await;
    let (status, customer) = ea_post(
        fake,
        token,
        "/v2/customers",
        &json!({
            "Name": "Webshop private customers", "InvoiceCity": "Stockholm", "InvoicePostalCode": "11122",
            "IsActive": true, "IsPrivatePerson": true, "TermsOfPaymentId": terms["Data"][0]["Id"],
        }),
    )
    .await;
    assert_eq!(status, 201, "{customer}");
    assert_eq!(customer["CustomerNumber"], "1");
    let (status, article) = ea_post(
        fake,
        token,
        "/v2/articles",
        &json!({
            "Number": "TSHIRT", "Name": "T-shirt", "IsActive": true, "NetPrice": 100.0,
            "CodingId": codings["Data"][0]["Id"], "UnitId": units["Data"][0]["Id"],
        }),
    )
    .await;
    assert_eq!(status, 201, "{article}");
    (
        customer["Id"].as_str().unwrap().into(),
        article["Id"].as_str().unwrap().into(),
    )
}

fn draft(customer: &str, article: &str, reference: &str, credit: bool) -> Value {
    json!({
        "CustomerId": customer, "EuThirdParty": false, "RotReducedInvoicingType": 0,
        "IsCreditInvoice": credit, "YourReference": reference, "InvoiceDate": "2024-03-15",
        "Rows": [
            {"IsTextRow": false, "ReversedConstructionServicesVatFree": false,
             "ArticleId": article, "Quantity": 2, "UnitPrice": 100.0, "DiscountPercentage": 0.1},
            {"IsTextRow": true, "ReversedConstructionServicesVatFree": false, "Text": "Thanks!"}
        ]
    })
}

#[tokio::test]
async fn draft_converts_to_invoice_found_by_filter() {
    let fake = FakeVisma::start().await;
    let token = ea_token(&fake).await;
    let (customer, article) = customer_and_article(&fake, &token).await;

    let (status, d) = ea_post(
        &fake,
        &token,
        "/v2/customerinvoicedrafts",
        &draft(&customer, &article, "order-42", false),
    )
    .await;
    assert_eq!(status, 201, "{d}");
    assert_eq!(d["TotalAmount"], 225.0);
    assert_eq!(d["TotalVatAmount"], 45.0);
    assert_eq!(d["Rows"][0]["Amount"], 180.0);
    assert!(validate(Api::EAccounting, "CustomerInvoiceDraftApi", &d)
        .unwrap()
        .is_empty());

    let id = d["Id"].as_str().unwrap();
    let (status, inv) = ea_post(
        &fake,
        &token,
        &format!("/v2/customerinvoicedrafts/{id}/convert"),
        &json!({"TotalAmountInvoiceCurrency": 225.0}),
    )
    .await;
    assert_eq!(status, 201, "{inv}");
    assert_eq!(inv["InvoiceNumber"], 1001);
    assert_eq!(inv["CreatedFromDraftId"], id);
    assert_eq!(inv["DueDate"], "2024-04-14T00:00:00");
    assert!(validate(Api::EAccounting, "CustomerInvoiceApi", &inv)
        .unwrap()
        .is_empty());
    assert!(fake.documents(DocKind::CustomerInvoiceDraft).is_empty());

    // a credit invoice is accepted and gets negative totals
    let (_, d2) = ea_post(
        &fake,
        &token,
        "/v2/customerinvoicedrafts",
        &draft(&customer, &article, "refund-42", true),
    )
    .await;
    let id2 = d2["Id"].as_str().unwrap();
    let (status, credit) = ea_post(
        &fake,
        &token,
        &format!("/v2/customerinvoicedrafts/{id2}/convert"),
        &json!({}),
    )
    .await;
    assert_eq!(status, 201, "{credit}");
    assert_eq!(credit["TotalAmount"], -225.0);
    assert_eq!(credit["IsCreditInvoice"], true);

    let (status, found) = get(
        &fake,
        &token,
        "/v2/customerinvoices?$filter=YourReference eq 'order-42'",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(found["Meta"]["TotalNumberOfResults"], 1);
    assert_eq!(found["Data"][0]["Id"], inv["Id"]);
    assert!(
        validate(Api::EAccounting, "PaginatedResponseOfCustomerInvoiceApi", &found)
            .unwrap()
            .is_empty()
    );
    let (_, none) = get(
        &fake,
        &token,
        "/v2/customerinvoices?$filter=YourReference eq 'order-43'",
    )
    .await;
    assert_eq!(none["Data"], json!([]));
    let (status, err) = get(&fake, &token, "/v2/customerinvoices?$filter=ExternalRef eq 'x'").await;
    assert_eq!((status, err["ErrorCode"].as_i64()), (400, Some(2000)));

    // formats are checked: uuid
    let (status, _) = ea_post(
        &fake,
        &token,
        "/v2/customerinvoicedrafts",
        &draft("nope", &article, "x", false),
    )
    .await;
    assert_eq!(status, 400);
    let errs = fake.last_validation_errors();
    assert!(
        errs.iter().any(|e| e.field == "CustomerId" && e.keyword == "format"),
        "{errs:?}"
    );

    // a row with an unknown article
    let bogus = "00000000-0000-4000-8000-000000000000";
    let (status, err) = ea_post(
        &fake,
        &token,
        "/v2/customerinvoicedrafts",
        &draft(&customer, bogus, "x", false),
    )
    .await;
    assert_eq!(
        (status, err["Errors"][0]["Field"].as_str()),
        (400, Some("Rows[0].ArticleId")),
        "{err}"
    );
}

#[tokio::test]
async fn reference_lists_are_valid_and_paged() {
    let fake = FakeVisma::start().await;
    let token = ea_token(&fake).await;
    for (path, schema) in [
        ("/v2/vatcodes", "PaginatedResponseOfVatCodeApi"),
        ("/v2/accounts", "PaginatedResponseOfAccountApi"),
        ("/v2/fiscalyears", "PaginatedResponseOfFiscalYearApi"),
        (
            "/v2/articleaccountcodings",
            "PaginatedResponseOfArticleAccountCodingApi",
        ),
        ("/v2/units", "PaginatedResponseOfUnitApi"),
        ("/v2/termsofpayments", "PaginatedResponseOfTermsOfPaymentApi"),
        ("/v2/vouchers", "PaginatedResponseOfVoucherApi"),
    ] {
        let (status, body) = get(&fake, &token, path).await;
        assert_eq!(status, 200, "{path}");
        let errors = validate(Api::EAccounting, schema, &body).unwrap();
        assert!(errors.is_empty(), "{path}: {errors:?}");
    }
    let (_, vat) = get(&fake, &token, "/v2/vatcodes?$filter=Code eq 'MP1'").await;
    assert_eq!(vat["Data"][0]["VatRate"], 0.25);
    assert_eq!(vat["Data"][0]["RelatedAccounts"]["AccountNumber1"], 2611);
    let (_, page) = get(&fake, &token, "/v2/accounts?$page=2&$pagesize=10").await;
    assert_eq!(page["Meta"]["CurrentPage"], 2);
    assert_eq!(page["Data"].as_array().unwrap().len(), 10);
    assert_eq!(page["Meta"]["TotalNumberOfResults"], fake.config().accounts.len());
    let (_, acc) = get(&fake, &token, "/v2/accounts?$filter=Number eq '3001'").await;
    assert_eq!(acc["Data"][0]["VatCodeId"], vat["Data"][0]["Id"]);
}

#[tokio::test]
async fn missing_or_bad_token_is_401() {
    let fake = FakeVisma::start().await;
    let resp = client()
        .get(format!("{}/v2/vouchers", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let (status, body) = get(&fake, "not-a-token", "/v2/vouchers").await;
    assert_eq!((status, body["ErrorCode"].as_i64()), (401, Some(4005)));
    let vn = ctvisma_fake_visma::FakeVisma::issue_access_token(&fake, Api::VismaNet);
    let (status, _) = get(&fake, &vn, "/v2/vouchers").await;
    assert_eq!(status, 401, "a Visma.net token is no eAccounting token");
    let token = ea_token(&fake).await;
    let (status, _) = get(&fake, &token, "/v2/nosuchthing").await;
    assert_eq!(status, 404);
    let (status, _) = get(&fake, &token, "/v2/projects").await;
    assert_eq!(status, 501);
}
