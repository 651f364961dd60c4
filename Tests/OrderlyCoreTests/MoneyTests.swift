import OrderlyCore
import Testing

@Suite
struct MoneyTests {
    let eur = CurrencyCode("EUR")!
    let usd = CurrencyCode("USD")!

    @Test(arguments: ["", "EU", "EURO", "eur", "E1R", "ÉUR"])
    func invalidCurrencyCodes(_ code: String) {
        #expect(CurrencyCode(code) == nil)
    }

    @Test func arithmeticInOneCurrency() throws {
        let price = Money(minorUnits: 1999, currency: eur)
        #expect(try price.multiplied(by: 3) == Money(minorUnits: 5997, currency: eur))
        #expect(try price.adding(price) == Money(minorUnits: 3998, currency: eur))
        #expect(try price.subtracting(Money(minorUnits: 2000, currency: eur)).minorUnits == -1)
    }

    @Test(arguments: [
        (Int64(1_000), "EUR", "10.00 EUR"), (5, "EUR", "0.05 EUR"), (-1_999, "USD", "-19.99 USD"),
        (1_500, "JPY", "1500 JPY"), (50, "KWD", "0.050 KWD"), (Int64.min, "EUR", "-92233720368547758.08 EUR"),
    ])
    func formattedForPeopleByTheCurrencysMinorDigits(_ minor: Int64, _ code: String, _ text: String) {
        #expect(Money(minorUnits: minor, currency: CurrencyCode(code)!).formatted == text)
    }

    @Test func overflowIsAnErrorNotAWrongTotal() {
        let huge = Money(minorUnits: Int64.max / 2 + 1, currency: eur)
        #expect(throws: MoneyError.overflow) { try huge.multiplied(by: 2) }
        #expect(throws: MoneyError.overflow) { try huge.adding(huge) }
        #expect(throws: MoneyError.overflow) {
            try Money(minorUnits: Int64.min, currency: eur).subtracting(Money(minorUnits: 1, currency: eur))
        }
    }

    @Test func currenciesNeverMix() {
        #expect(throws: MoneyError.currencyMismatch(eur, usd)) {
            try Money.zero(eur).adding(Money.zero(usd))
        }
    }
}
