//! The commercetools Order (and the parts of a Cart it shares), as far as accounting needs it.
//! Unknown fields are ignored; everything not always present is optional.

use serde::{Deserialize, Serialize};

use super::common::{Address, LocalizedString, Reference, TaxRate, TaxedPrice};
use crate::money::CtMoney;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub order_number: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub last_modified_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub store: Option<Reference>,
    #[serde(default)]
    pub business_unit: Option<Reference>,
    pub total_price: CtMoney,
    #[serde(default)]
    pub taxed_price: Option<TaxedPrice>,
    #[serde(default)]
    pub tax_mode: Option<String>,
    #[serde(default)]
    pub tax_rounding_mode: Option<String>,
    #[serde(default)]
    pub tax_calculation_mode: Option<String>,
    #[serde(default)]
    pub order_state: Option<String>,
    #[serde(default)]
    pub payment_state: Option<String>,
    #[serde(default)]
    pub shipment_state: Option<String>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub custom_line_items: Vec<CustomLineItem>,
    #[serde(default)]
    pub shipping_info: Option<ShippingInfo>,
    #[serde(default)]
    pub shipping_mode: Option<String>,
    /// Multiple shipping (`shippingMode: Multiple`): one entry per shipping method.
    #[serde(default)]
    pub shipping: Vec<Shipping>,
    #[serde(default)]
    pub discount_codes: Vec<DiscountCodeInfo>,
    #[serde(default)]
    pub discount_on_total_price: Option<DiscountOnTotalPrice>,
    #[serde(default)]
    pub shipping_address: Option<Address>,
    #[serde(default)]
    pub billing_address: Option<Address>,
    #[serde(default)]
    pub payment_info: Option<PaymentInfo>,
    #[serde(default)]
    pub return_info: Vec<ReturnInfo>,
    #[serde(default)]
    pub custom: Option<serde_json::Value>,
}

impl Order {
    /// The number finance sees: `orderNumber`, else the id.
    pub fn display_ref(&self) -> &str {
        self.order_number.as_deref().unwrap_or(&self.id)
    }

    /// The country used to route an order to an entity: the order's own `country`, else the
    /// shipping, else the billing address country.
    pub fn routing_country(&self) -> Option<&str> {
        self.country
            .as_deref()
            .or_else(|| self.shipping_address.as_ref()?.country.as_deref())
            .or_else(|| self.billing_address.as_ref()?.country.as_deref())
    }

    /// Every shipping of the order: the single `shippingInfo`, or each entry of `shipping`.
    pub fn shippings(&self) -> Vec<(Option<&str>, &ShippingInfo)> {
        let mut all: Vec<(Option<&str>, &ShippingInfo)> = self.shipping_info.iter().map(|s| (None, s)).collect();
        all.extend(
            self.shipping
                .iter()
                .map(|s| (s.shipping_key.as_deref(), &s.shipping_info)),
        );
        all
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// Always set on orders; absent only in cart fragments.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub product_id: Option<String>,
    #[serde(default)]
    pub product_key: Option<String>,
    #[serde(default)]
    pub name: LocalizedString,
    #[serde(default)]
    pub product_type: Option<Reference>,
    #[serde(default)]
    pub variant: Option<Variant>,
    #[serde(default)]
    pub price: Option<Price>,
    pub quantity: i64,
    #[serde(default)]
    pub total_price: Option<CtMoney>,
    #[serde(default)]
    pub discounted_price_per_quantity: Vec<DiscountedLineItemPriceForQuantity>,
    #[serde(default)]
    pub tax_rate: Option<TaxRate>,
    #[serde(default)]
    pub taxed_price: Option<TaxedItemPrice>,
    /// Not part of the public LineItem type, but accepted when a shop adds it (custom field
    /// projections): lets rules match a tax category on line items too.
    #[serde(default)]
    pub tax_category: Option<Reference>,
    #[serde(default)]
    pub price_mode: Option<String>,
    #[serde(default)]
    pub line_item_mode: Option<String>,
}

impl LineItem {
    pub fn sku(&self) -> Option<&str> {
        self.variant.as_ref()?.sku.as_deref()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    #[serde(default)]
    pub id: Option<String>,
    pub value: CtMoney,
    /// A product discount already applied to the unit price.
    #[serde(default)]
    pub discounted: Option<DiscountedPrice>,
}

impl Price {
    /// The unit price the cart used: the product-discounted value when there is one.
    pub fn effective(&self) -> &CtMoney {
        self.discounted.as_ref().map_or(&self.value, |d| &d.value)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountedPrice {
    pub value: CtMoney,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountedLineItemPriceForQuantity {
    pub quantity: i64,
    pub discounted_price: DiscountedLineItemPrice,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountedLineItemPrice {
    pub value: CtMoney,
    #[serde(default)]
    pub included_discounts: Vec<DiscountedLineItemPortion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountedLineItemPortion {
    #[serde(default)]
    pub discount: Option<Reference>,
    pub discounted_amount: CtMoney,
}

/// A line's taxed price: like the order's, but `taxPortions` is optional on older data.
pub type TaxedItemPrice = TaxedPrice;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomLineItem {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: LocalizedString,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    /// Unit price.
    pub money: CtMoney,
    #[serde(default = "one")]
    pub quantity: i64,
    #[serde(default)]
    pub total_price: Option<CtMoney>,
    #[serde(default)]
    pub discounted_price_per_quantity: Vec<DiscountedLineItemPriceForQuantity>,
    #[serde(default)]
    pub tax_category: Option<Reference>,
    #[serde(default)]
    pub tax_rate: Option<TaxRate>,
    #[serde(default)]
    pub taxed_price: Option<TaxedItemPrice>,
    /// `Standard` or `External` (commercetools 2023+): external custom line items carry
    /// their price as given.
    #[serde(default)]
    pub price_mode: Option<String>,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingInfo {
    #[serde(default)]
    pub shipping_method_name: Option<String>,
    /// Undiscounted shipping price.
    pub price: CtMoney,
    #[serde(default)]
    pub discounted_price: Option<DiscountedLineItemPrice>,
    #[serde(default)]
    pub tax_rate: Option<TaxRate>,
    #[serde(default)]
    pub tax_category: Option<Reference>,
    #[serde(default)]
    pub shipping_method: Option<Reference>,
    #[serde(default)]
    pub taxed_price: Option<TaxedItemPrice>,
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
    #[serde(default)]
    pub shipping_method_state: Option<String>,
}

impl ShippingInfo {
    /// What the customer pays for shipping: the discounted price when a shipping discount applies.
    pub fn charged(&self) -> &CtMoney {
        self.discounted_price.as_ref().map_or(&self.price, |d| &d.value)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipping {
    #[serde(default)]
    pub shipping_key: Option<String>,
    pub shipping_info: ShippingInfo,
    #[serde(default)]
    pub shipping_address: Option<Address>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub items: Vec<DeliveryItem>,
    #[serde(default)]
    pub parcels: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryItem {
    pub id: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountCodeInfo {
    #[serde(default)]
    pub discount_code: Option<Reference>,
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountOnTotalPrice {
    pub discounted_amount: CtMoney,
    #[serde(default)]
    pub discounted_net_amount: Option<CtMoney>,
    #[serde(default)]
    pub discounted_gross_amount: Option<CtMoney>,
    #[serde(default)]
    pub included_discounts: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentInfo {
    #[serde(default)]
    pub payments: Vec<Reference>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnInfo {
    #[serde(default)]
    pub items: Vec<ReturnItem>,
    #[serde(default)]
    pub return_tracking_id: Option<String>,
    #[serde(default)]
    pub return_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnItem {
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub line_item_id: Option<String>,
    #[serde(default)]
    pub custom_line_item_id: Option<String>,
    #[serde(default)]
    pub shipment_state: Option<String>,
    #[serde(default)]
    pub payment_state: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}
