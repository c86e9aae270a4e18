//! The ticket as the API shows it (`domain-sales.md` §3.11, §4.3, §4.4 and the fields
//! `client-contract.md` says the app reads). The sale path builds it in memory from what it
//! wrote; the reads load it from the database (`db::tickets`). One shape for the sale response,
//! the detail, cancel/restore/print answers; the list uses [`TicketListItem`].

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// Print settings of a vendedor or ventana, derived as the app expects
/// (`settings.print.*` first, then the entity's own name/phone; barcode defaults to true).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrintConfig {
    pub print_name: Option<String>,
    pub print_phone: Option<String>,
    pub print_width: Option<Value>,
    pub print_footer: Option<String>,
    pub print_barcode: bool,
    pub print_bluetooth_mac_address: Option<String>,
}

impl PrintConfig {
    /// `settings` is the entity's `settings` JSON (may be null).
    pub fn derive(name: &str, phone: Option<&str>, settings: Option<&Value>) -> PrintConfig {
        let print = settings.and_then(|s| s.get("print"));
        let text = |key: &str| {
            print
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        PrintConfig {
            print_name: text("name").or_else(|| Some(name.to_owned())),
            print_phone: text("phone").or_else(|| phone.map(str::to_owned)),
            print_width: print
                .and_then(|p| p.get("width"))
                .filter(|v| !v.is_null())
                .cloned(),
            print_footer: text("footer"),
            print_barcode: print
                .and_then(|p| p.get("barcode"))
                .and_then(Value::as_bool)
                .unwrap_or(true),
            print_bluetooth_mac_address: text("bluetoothMacAddress"),
        }
    }

    /// Paper width in millimetres (58 when absent or unreadable).
    pub fn width_mm(&self) -> u32 {
        self.print_width
            .as_ref()
            .and_then(|w| {
                w.as_u64()
                    .or_else(|| w.as_str().and_then(|s| s.trim().parse().ok()))
            })
            .and_then(|w| u32::try_from(w).ok())
            .filter(|w| (30..=120).contains(w))
            .unwrap_or(58)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoteriaBrief {
    pub id: Uuid,
    pub name: String,
    pub rules_json: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SorteoBrief {
    pub id: Uuid,
    /// The sorteo's name with its 12-hour local time appended ("TICA 1:55 PM").
    pub name: String,
    /// Business-local time with offset, as the sorteo routes answer it.
    pub scheduled_at: String,
    pub status: String,
    pub loteria_id: Uuid,
    pub banca_id: Option<Uuid>,
    pub digits: i16,
    pub winning_number: Option<String>,
    pub loteria: LoteriaBrief,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VendedorBrief {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub phone: Option<String>,
    pub username: String,
    pub settings: Option<Value>,
    #[serde(flatten)]
    pub print: PrintConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VentanaBrief {
    pub id: Uuid,
    pub name: String,
    pub code: String,
    pub phone: Option<String>,
    pub banca_id: Uuid,
    pub settings: Option<Value>,
    #[serde(flatten)]
    pub print: PrintConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiplierBrief {
    pub id: Uuid,
    pub name: String,
    pub value_x: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JugadaView {
    pub id: Uuid,
    pub ticket_id: Uuid,
    /// "NUMERO" | "REVENTADO".
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
    pub reventado_number: Option<String>,
    pub amount: Decimal,
    pub final_multiplier_x: Decimal,
    pub multiplier_id: Option<Uuid>,
    pub multiplier: Option<MultiplierBrief>,
    pub commission_percent: Decimal,
    pub commission_amount: Decimal,
    pub commission_origin: Option<String>,
    pub commission_rule_id: Option<String>,
    pub listero_commission_amount: Decimal,
    pub is_active: bool,
    pub is_winner: bool,
    pub payout: Option<Decimal>,
    /// The app's name for `payout`.
    pub win_amount: Option<Decimal>,
    pub is_excluded: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A warning attached to a sale that went through (an ADMIN selling a restricted multiplier).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleWarning {
    pub code: String,
    pub restricted_but_allowed: bool,
    pub rule_id: Uuid,
    pub scope: String,
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub multiplier_id: Uuid,
    pub multiplier_name: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketView {
    pub id: Uuid,
    pub ticket_number: String,
    /// `YYYY-MM-DDT00:00:00.000Z`, as the existing system serialises its DATE column.
    #[serde(serialize_with = "business_date_iso")]
    pub business_date: NaiveDate,
    pub banca_id: Uuid,
    pub loteria_id: Uuid,
    pub sorteo_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
    pub total_amount: Decimal,
    pub total_commission: Decimal,
    pub total_listero_commission: Decimal,
    pub status: String,
    pub is_active: bool,
    pub is_winner: bool,
    pub total_payout: Decimal,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
    pub last_payment_at: Option<DateTime<Utc>>,
    pub payment_method: Option<String>,
    pub payment_notes: Option<String>,
    pub payment_history: Value,
    pub cliente_nombre: String,
    pub created_by: Option<Uuid>,
    pub created_by_role: Option<String>,
    pub is_sorteo_closed: bool,
    pub idempotency_key: Option<String>,
    pub print_count: i32,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub enable_ticket_reprints: bool,
    pub loteria: LoteriaBrief,
    pub sorteo: SorteoBrief,
    pub vendedor: VendedorBrief,
    pub ventana: VentanaBrief,
    pub jugadas: Vec<JugadaView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<SaleWarning>,
}

/// One row of `GET /tickets`: the ticket's own fields plus short relations (§4.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketListItem {
    pub id: Uuid,
    pub ticket_number: String,
    #[serde(serialize_with = "business_date_iso")]
    pub business_date: NaiveDate,
    pub banca_id: Uuid,
    pub loteria_id: Uuid,
    pub sorteo_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
    pub total_amount: Decimal,
    pub total_commission: Decimal,
    pub total_listero_commission: Decimal,
    pub status: String,
    pub is_active: bool,
    pub is_winner: bool,
    pub total_payout: Decimal,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
    pub last_payment_at: Option<DateTime<Utc>>,
    pub payment_method: Option<String>,
    pub cliente_nombre: String,
    pub created_by: Option<Uuid>,
    pub created_by_role: Option<String>,
    pub print_count: i32,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub loteria: ListLoteria,
    pub sorteo: ListSorteo,
    pub ventana: ListVentana,
    pub vendedor: ListVendedor,
    pub jugadas: Vec<ListJugada>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListLoteria {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSorteo {
    pub id: Uuid,
    pub name: String,
    pub scheduled_at: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListVentana {
    pub id: Uuid,
    pub name: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListVendedor {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListJugada {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
    pub reventado_number: Option<String>,
    pub amount: Decimal,
    pub final_multiplier_x: Decimal,
    pub multiplier_id: Option<Uuid>,
    pub is_winner: bool,
    pub payout: Option<Decimal>,
    /// The app's name for `payout` (the payout screen reads it from the list).
    pub win_amount: Option<Decimal>,
}

/// A sorteo's name with its 12-hour business-local time appended ("TICA 1:55 PM"), unless the
/// name already ends with one.
pub fn sorteo_display_name(name: &str, scheduled_at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let with_time = crate::domain::schedule::draw_name("", scheduled_at, tz);
    let time = with_time.trim();
    if name.ends_with(" AM") || name.ends_with(" PM") {
        return name.to_owned();
    }
    // A trailing 24-hour "HH:MM" (older names) gives way to the 12-hour time.
    let base = match name.rsplit_once(' ') {
        Some((head, last))
            if last.len() == 5
                && last.as_bytes()[2] == b':'
                && last.replace(':', "").bytes().all(|b| b.is_ascii_digit()) =>
        {
            head
        }
        _ => name,
    };
    format!("{base} {time}")
}

fn business_date_iso<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{}T00:00:00.000Z", d.format("%Y-%m-%d")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn print_config_prefers_settings_then_entity() {
        let s = json!({"print": {"name": "  Chepe ", "width": 88, "barcode": false, "footer": "Gracias"}});
        let p = PrintConfig::derive("Juan", Some("8888-0000"), Some(&s));
        assert_eq!(p.print_name.as_deref(), Some("Chepe"));
        assert_eq!(p.print_phone.as_deref(), Some("8888-0000"));
        assert_eq!(p.width_mm(), 88);
        assert!(!p.print_barcode);
        assert_eq!(p.print_footer.as_deref(), Some("Gracias"));

        let p = PrintConfig::derive("Juan", None, None);
        assert_eq!(p.print_name.as_deref(), Some("Juan"));
        assert!(p.print_barcode);
        assert_eq!(p.width_mm(), 58);
        let s = json!({"print": {"width": "80"}});
        assert_eq!(PrintConfig::derive("J", None, Some(&s)).width_mm(), 80);
    }
}
