//! Offset pagination: `page`/`pageSize` in, the list `meta` of the wire contract out.

use serde::Serialize;

use crate::http::error::{ApiError, ErrorDetail};

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub page_size: u32,
}

impl Page {
    /// Validates `page ≥ 1` and `1 ≤ pageSize ≤ max`, applying the endpoint's default size.
    pub fn new(
        page: Option<u32>,
        page_size: Option<u32>,
        default_size: u32,
        max_size: u32,
    ) -> Result<Self, ApiError> {
        let page = page.unwrap_or(1);
        let page_size = page_size.unwrap_or(default_size);
        let mut details = Vec::new();
        if page == 0 {
            details.push(ErrorDetail {
                field: "page".into(),
                code: "too_small".into(),
                issue: "page debe ser al menos 1".into(),
            });
        }
        if page_size == 0 || page_size > max_size {
            details.push(ErrorDetail {
                field: "pageSize".into(),
                code: "out_of_range".into(),
                issue: format!("pageSize debe estar entre 1 y {max_size}"),
            });
        }
        if !details.is_empty() {
            return Err(ApiError::bad_request(
                "VALIDATION_ERROR",
                "Error en los filtros de búsqueda",
            )
            .with_details(details));
        }
        Ok(Page { page, page_size })
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.page_size)
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.page_size)
    }

    pub fn meta(&self, total: i64) -> PageMeta {
        let total_pages = if total == 0 {
            0
        } else {
            (total + i64::from(self.page_size) - 1) / i64::from(self.page_size)
        };
        PageMeta {
            total,
            page: self.page,
            page_size: self.page_size,
            total_pages,
            has_next_page: i64::from(self.page) < total_pages,
            has_prev_page: self.page > 1,
        }
    }
}

/// `{total, page, pageSize, totalPages, hasNextPage, hasPrevPage}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PageMeta {
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
    pub total_pages: i64,
    pub has_next_page: bool,
    pub has_prev_page: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_matches_the_contract() {
        let p = Page::new(Some(2), Some(10), 20, 100).unwrap();
        assert_eq!((p.limit(), p.offset()), (10, 10));
        let m = p.meta(25);
        assert_eq!(
            (m.total_pages, m.has_next_page, m.has_prev_page),
            (3, true, true)
        );
        assert_eq!(
            Page::new(None, None, 20, 100).unwrap().meta(0).total_pages,
            0
        );
        assert!(Page::new(Some(0), None, 20, 100).is_err());
        assert!(Page::new(None, Some(101), 20, 100).is_err());
    }
}
